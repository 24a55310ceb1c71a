"""Emulate Belgian eID cards with synthetic people, in-process or through pcscd's vpcd."""

from eid_emulator.card import CardModes, CardWithdrawn, VirtualCard
from eid_emulator.cards import CARDS, SyntheticPerson

__all__ = ["CARDS", "CardModes", "CardWithdrawn", "SyntheticPerson", "VirtualCard"]
