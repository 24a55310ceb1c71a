"""Who gave a consent (the person or a parent/guardian), and version 2 of the eID notice.

Version 2 tells the truth for every card in circulation: which fields leave the card, that
applet 1.8 cards give single fields, that older cards make the reader hold the whole identity
file for a moment, the anonymous option, and the parent's consent for a child's card.
"""

import hashlib

from django.db import migrations, models
from django.utils import timezone

EID_NOTICE_V2 = {
    "nl": (
        "Mogen we uw eID-kaart lezen om u als klant te herkennen? Van de kaart nemen we alleen "
        "uw kaartnummer, uw naam en voornamen en het kaarttype (om te weten of het een "
        "kinderkaart is). We bewaren uw naam, uw eerste voornaam en een versleutelde "
        "vingerafdruk van het kaartnummer, nooit het nummer zelf. Wilt u liever alleen aan die "
        "vingerafdruk herkend worden (anoniem lidmaatschap), dan bewaren we geen naam. Uw "
        "rijksregisternummer, geboortedatum, geslacht, adres en foto bewaren we niet. Op kaarten "
        "uitgegeven sinds ongeveer 2021 verlaten ze de kaart nooit. Bij oudere kaarten houdt de "
        "lezer even het hele identiteitsbestand (ook rijksregisternummer, geboortedatum en "
        "geslacht) in zijn geheugen, neemt er alleen de gegevens hierboven uit en wist de rest "
        "meteen; niets daarvan wordt verstuurd of bewaard. Voor een kind jonger dan 13 geeft een "
        "ouder of voogd deze toestemming. U bent niet verplicht: met het inschrijvingsformulier "
        "(naam, e-mail, telefoon) krijgt u precies dezelfde voordelen. U kunt uw toestemming "
        "altijd intrekken aan de kassa of online; u behoudt dan uw klantnummer en punten."
    ),
    "fr": (
        "Pouvons-nous lire votre carte eID pour vous reconnaître comme client ? Nous ne prenons "
        "de la carte que votre numéro de carte, votre nom et vos prénoms et le type de carte "
        "(pour savoir s'il s'agit d'une carte d'enfant). Nous conservons votre nom, votre "
        "premier prénom et une empreinte chiffrée du numéro de carte, jamais le numéro lui-même. "
        "Si vous préférez n'être reconnu que par cette empreinte (affiliation anonyme), nous ne "
        "conservons aucun nom. Nous ne conservons ni votre numéro de registre national, ni votre "
        "date de naissance, ni votre sexe, ni votre adresse, ni votre photo. Sur les cartes "
        "émises depuis 2021 environ, ils ne quittent jamais la carte. Sur les cartes plus "
        "anciennes, le lecteur garde un instant tout le fichier d'identité (y compris le numéro "
        "de registre national, la date de naissance et le sexe) en mémoire, n'en prend que les "
        "données ci-dessus et efface le reste aussitôt ; rien de cela n'est envoyé ni conservé. "
        "Pour un enfant de moins de 13 ans, un parent ou tuteur donne ce consentement. Ce n'est "
        "pas obligatoire : avec le formulaire d'inscription (nom, e-mail, téléphone), vous "
        "recevez exactement les mêmes avantages. Vous pouvez retirer votre consentement à tout "
        "moment, à la caisse ou en ligne ; vous gardez alors votre numéro de client et vos "
        "points."
    ),
    "en": (
        "May we read your eID card to recognise you as a member? From the card we take only "
        "your card number, your surname and given names, and the card type (to know whether it "
        "is a child's card). We keep your surname, your first given name and an encrypted "
        "fingerprint of the card number, never the number itself. If you prefer to be known "
        "only by that fingerprint (anonymous membership), we keep no name at all. We do not keep "
        "your national register number, date of birth, sex, address or photo. On cards issued "
        "since about 2021 they never leave the card. On older cards the reader briefly holds "
        "the whole identity file (national register number, date of birth and sex included) in "
        "its memory, takes only the fields above and wipes the rest at once; none of it is sent "
        "or kept. For a child under 13, a parent or guardian gives this consent. You do not have "
        "to: with the sign-up form (name, e-mail, phone) you get exactly the same benefits. You "
        "can withdraw your consent at any time, at the counter or online; you keep your member "
        "number and points."
    ),
}


def publish(apps, schema_editor):
    NoticeVersion = apps.get_model("privacy", "NoticeVersion")
    now = timezone.now()
    purpose = "eid_recognition"
    for language, text in EID_NOTICE_V2.items():
        content_hash = hashlib.sha256(f"{purpose}\n{language}\n{text}".encode()).hexdigest()
        if NoticeVersion.objects.filter(content_hash=content_hash).exists():
            continue
        latest = (
            NoticeVersion.objects.filter(purpose=purpose, language=language)
            .order_by("-version")
            .first()
        )
        NoticeVersion.objects.create(
            purpose=purpose,
            language=language,
            version=(latest.version + 1) if latest else 1,
            text=text,
            content_hash=content_hash,
            published_at=now,
        )


class Migration(migrations.Migration):
    dependencies = [("privacy", "0005_purpose_channel_kind_choices_from_registry")]

    operations = [
        migrations.AddField(
            model_name="consentrecord",
            name="given_by",
            field=models.CharField(
                choices=[("subject", "The person concerned"), ("guardian", "A parent or guardian")],
                default="subject",
                max_length=10,
            ),
        ),
        migrations.RunPython(publish, migrations.RunPython.noop),
    ]
