# Merge of the two 0004 migrations (alerts/recording and API tokens); no operations.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("pulse", "0004_api_tokens"),
        ("pulse", "0004_durable_and_alerts"),
    ]

    operations = []
