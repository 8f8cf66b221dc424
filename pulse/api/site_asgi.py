"""The site's ASGI app with the API socket mounted, for tests until ``asgi.py`` mounts it.

Serve it with ``daphne pulse.api.site_asgi:application``. Settings must point
``ROOT_URLCONF`` at ``pulse.api.site_urls`` for the REST routes (the socket needs nothing).
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pulse_site.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from pulse.api.routing import with_api  # noqa: E402
from pulse.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": with_api(
            AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))
        ),
    }
)
