"""Store a keyed hash of each eID token instead of the token the agent sent.

The server's key (settings.EID_TOKEN_HASH_KEY) is applied once to every existing link; from
now on `loyalty.eid_rules.eid_token_digest` does the same to every token that arrives, so
recognition and re-linking find the same members. Irreversible by design: the tokens as sent
are not kept anywhere to go back to.
"""

import hashlib
import hmac

from django.conf import settings
from django.db import migrations

BATCH = 2000


def digest(token: str) -> str:
    # Must stay identical to loyalty.eid_rules.eid_token_digest.
    key = settings.EID_TOKEN_HASH_KEY.encode()
    return hmac.new(key, b"eid-token\x00" + token.encode(), hashlib.sha256).hexdigest()


def hash_tokens(apps, schema_editor):
    EidCard = apps.get_model("loyalty", "EidCard")
    last_pk = 0
    while True:
        cards = list(EidCard.objects.filter(pk__gt=last_pk).order_by("pk")[:BATCH])
        if not cards:
            return
        for card in cards:
            card.token = digest(card.token)
        EidCard.objects.bulk_update(cards, ["token"])
        last_pk = cards[-1].pk


class Migration(migrations.Migration):
    dependencies = [("loyalty", "0004_eid_channel_limits")]

    operations = [migrations.RunPython(hash_tokens, migrations.RunPython.noop, elidable=False)]
