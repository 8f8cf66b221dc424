"""Site settings with the API's URLs mounted (for the server subprocess of the client test)."""

from pulse_site.settings import *  # noqa: F403

ROOT_URLCONF = "pulse.api.site_urls"
