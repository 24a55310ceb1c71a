"""Publish version 1 of each privacy notice in Dutch, French and English."""

import hashlib

from django.db import migrations
from django.utils import timezone

NOTICES = {
    "eid_recognition": {
        "nl": (
            "Mogen we uw eID-kaart lezen om u als klant te herkennen? We lezen alleen uw "
            "voornaam en naam en bewaren een versleutelde vingerafdruk van het kaartnummer, "
            "zodat we uw kaart de volgende keer herkennen. Uw rijksregisternummer, "
            "geboortedatum, adres en foto lezen of bewaren we niet. U bent niet verplicht: met "
            "het inschrijvingsformulier (naam, e-mail, telefoon) krijgt u precies dezelfde "
            "voordelen. U kunt uw toestemming altijd intrekken aan de kassa of online; u "
            "behoudt dan uw klantnummer en punten."
        ),
        "fr": (
            "Pouvons-nous lire votre carte eID pour vous reconnaître comme client ? Nous ne "
            "lisons que votre prénom et votre nom et conservons une empreinte chiffrée du "
            "numéro de carte, pour reconnaître votre carte la prochaine fois. Nous ne lisons ni "
            "ne conservons votre numéro de registre national, votre date de naissance, votre "
            "adresse ou votre photo. Ce n'est pas obligatoire : avec le formulaire d'inscription "
            "(nom, e-mail, téléphone), vous recevez exactement les mêmes avantages. Vous pouvez "
            "retirer votre consentement à tout moment, à la caisse ou en ligne ; vous gardez "
            "alors votre numéro de client et vos points."
        ),
        "en": (
            "May we read your eID card to recognise you as a member? We read only your given "
            "name and surname and keep an encrypted fingerprint of the card number, so that we "
            "recognise your card next time. We do not read or keep your national register "
            "number, date of birth, address or photo. You do not have to: with the sign-up form "
            "(name, e-mail, phone) you get exactly the same benefits. You can withdraw your "
            "consent at any time, at the counter or online; you keep your member number and "
            "points."
        ),
    },
    "loyalty_membership": {
        "nl": (
            "Als lid van ons klantenprogramma bewaren we uw naam, uw klantnummer, uw e-mailadres "
            "en telefoonnummer als u die opgeeft, en uw aankopen en punten. We gebruiken ze "
            "alleen om u punten en voordelen te geven. Bent u 24 maanden niet actief, dan wissen "
            "we uw gegevens. U kunt uw gegevens opvragen of laten wissen, aan de kassa of via "
            "onze website."
        ),
        "fr": (
            "En tant que membre de notre programme de fidélité, nous conservons votre nom, votre "
            "numéro de client, votre adresse e-mail et votre numéro de téléphone si vous les "
            "donnez, ainsi que vos achats et vos points. Nous les utilisons uniquement pour vous "
            "donner des points et des avantages. Après 24 mois d'inactivité, nous effaçons vos "
            "données. Vous pouvez demander vos données ou leur effacement, à la caisse ou sur "
            "notre site."
        ),
        "en": (
            "As a member of our loyalty programme we keep your name, your member number, your "
            "e-mail address and phone number if you give them, and your purchases and points. We "
            "use them only to give you points and benefits. If you are inactive for 24 months, "
            "we erase your data. You can ask for your data or for their erasure, at the counter "
            "or on our website."
        ),
    },
    "marketing_email": {
        "nl": (
            "Wilt u onze aanbiedingen per e-mail ontvangen? We gebruiken daarvoor alleen uw "
            "e-mailadres en taal. U kunt zich altijd afmelden, via de link in elke e-mail of "
            "aan de kassa."
        ),
        "fr": (
            "Souhaitez-vous recevoir nos offres par e-mail ? Nous n'utilisons pour cela que "
            "votre adresse e-mail et votre langue. Vous pouvez vous désinscrire à tout moment, "
            "via le lien dans chaque e-mail ou à la caisse."
        ),
        "en": (
            "Would you like to receive our offers by e-mail? We use only your e-mail address and "
            "language for this. You can unsubscribe at any time, through the link in every "
            "e-mail or at the counter."
        ),
    },
}


def publish(apps, schema_editor):
    NoticeVersion = apps.get_model("privacy", "NoticeVersion")
    now = timezone.now()
    for purpose, texts in NOTICES.items():
        for language, text in texts.items():
            content_hash = hashlib.sha256(f"{purpose}\n{language}\n{text}".encode()).hexdigest()
            if not NoticeVersion.objects.filter(content_hash=content_hash).exists():
                NoticeVersion.objects.create(
                    purpose=purpose,
                    language=language,
                    version=1,
                    text=text,
                    content_hash=content_hash,
                    published_at=now,
                )


class Migration(migrations.Migration):
    dependencies = [("privacy", "0001_initial")]

    operations = [migrations.RunPython(publish, migrations.RunPython.noop)]
