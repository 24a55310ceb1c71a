"""German for customers: publish the notices in German (the language choices: 0018).

The eID notice is the German text of version 2 in the other languages (0006).
"""

import hashlib

from django.db import migrations
from django.utils import timezone

NOTICES_DE = {
    "eid_recognition": (
        "Dürfen wir Ihre eID-Karte lesen, um Sie als Kunden wiederzuerkennen? Von der Karte "
        "nehmen wir nur Ihre Kartennummer, Ihren Nachnamen und Ihre Vornamen sowie den Kartentyp "
        "(um zu wissen, ob es sich um eine Kinderkarte handelt). Wir speichern Ihren Nachnamen, "
        "Ihren ersten Vornamen und einen verschlüsselten Fingerabdruck der Kartennummer, niemals "
        "die Nummer selbst. Wenn Sie nur über diesen Fingerabdruck bekannt sein möchten (anonyme "
        "Mitgliedschaft), speichern wir gar keinen Namen. Ihre Nationalregisternummer, Ihr "
        "Geburtsdatum, Ihr Geschlecht, Ihre Adresse und Ihr Foto speichern wir nicht. Bei "
        "Karten, die etwa seit 2021 ausgestellt werden, verlassen sie die Karte nie. Bei älteren "
        "Karten hält das Lesegerät kurz die ganze Identitätsdatei (einschließlich "
        "Nationalregisternummer, Geburtsdatum und Geschlecht) in seinem Speicher, nimmt nur die "
        "oben genannten Angaben und löscht den Rest sofort; davon wird nichts übermittelt oder "
        "gespeichert. Für ein Kind unter 13 Jahren gibt ein Elternteil oder Vormund diese "
        "Einwilligung. Sie sind nicht dazu verpflichtet: Mit dem Anmeldeformular (Name, E-Mail, "
        "Telefon) erhalten Sie genau dieselben Vorteile. Sie können Ihre Einwilligung jederzeit "
        "an der Kasse oder online widerrufen; Ihre Kundennummer und Ihre Punkte behalten Sie."
    ),
    "loyalty_membership": (
        "Als Mitglied unseres Treueprogramms speichern wir Ihren Namen, Ihre Kundennummer, Ihre "
        "E-Mail-Adresse und Telefonnummer, wenn Sie sie angeben, sowie Ihre Einkäufe und Punkte. "
        "Wir verwenden sie nur, um Ihnen Punkte und Vorteile zu geben. Sind Sie 24 Monate lang "
        "nicht aktiv, löschen wir Ihre Daten. Sie können Ihre Daten an der Kasse oder über "
        "unsere Website anfordern oder löschen lassen."
    ),
    "marketing_email": (
        "Möchten Sie unsere Angebote per E-Mail erhalten? Dafür verwenden wir nur Ihre "
        "E-Mail-Adresse und Ihre Sprache. Sie können sich jederzeit abmelden, über den Link in "
        "jeder E-Mail oder an der Kasse."
    ),
}


def publish(apps, schema_editor):
    NoticeVersion = apps.get_model("privacy", "NoticeVersion")
    now = timezone.now()
    for purpose, text in NOTICES_DE.items():
        content_hash = hashlib.sha256(f"{purpose}\nde\n{text}".encode()).hexdigest()
        if NoticeVersion.objects.filter(content_hash=content_hash).exists():
            continue
        latest = NoticeVersion.objects.filter(purpose=purpose, language="de").order_by("-version")
        NoticeVersion.objects.create(
            purpose=purpose,
            language="de",
            version=(latest.first().version + 1) if latest.exists() else 1,
            text=text,
            content_hash=content_hash,
            published_at=now,
        )


class Migration(migrations.Migration):
    dependencies = [("privacy", "0015_verbose_names")]

    operations = [migrations.RunPython(publish, migrations.RunPython.noop)]
