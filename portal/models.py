"""The portal keeps no data of its own: staff reads are `loyalty.MemberRead`."""
