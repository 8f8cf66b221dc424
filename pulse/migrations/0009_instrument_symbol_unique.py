"""One instrument per symbol, stored upper case (duplicates were repaired by 0008).

A separate migration from the repair so that, on PostgreSQL, the data changes are committed
before the table is altered (ALTER TABLE refuses to run with pending deferred FK checks).
"""

import django.db.models.functions.text
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("pulse", "0008_repair_duplicate_instruments"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="instrument",
            name="instrument_unique_symbol",
        ),
        migrations.AddConstraint(
            model_name="instrument",
            constraint=models.UniqueConstraint(
                fields=("symbol",), name="instrument_unique_symbol",
                violation_error_message="An instrument with this symbol already exists."),
        ),
        migrations.AddConstraint(
            model_name="instrument",
            constraint=models.CheckConstraint(
                condition=models.Q(("symbol", django.db.models.functions.text.Upper("symbol"))),
                name="instrument_symbol_upper",
                violation_error_message="Symbols are stored in upper case."),
        ),
    ]
