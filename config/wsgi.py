"""WSGI entry point: `gunicorn config.wsgi`.

Production settings unless DJANGO_SETTINGS_MODULE names others: a server started without it
refuses to start for want of its secrets, instead of serving with the development ones.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = get_wsgi_application()
