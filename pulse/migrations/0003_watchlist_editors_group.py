"""Create the "Watchlist editors" group: what a staff user who is not a superuser needs.

Staff status alone opens no admin page; a member of this group may manage their own
watchlists (the admin scopes them to the owner), look up instruments for the inline
autocomplete, and read events.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP_NAME = "Watchlist editors"
PERMISSIONS = [
    ("watchlist", ("add", "change", "delete", "view")),
    ("watchlistitem", ("add", "change", "delete", "view")),
    ("instrument", ("view",)),
    ("event", ("view",)),
]


def create_group(apps, schema_editor):
    # Permissions are normally created after all migrations ran (post_migrate): create
    # them now so the group can reference them on a fresh database.
    app_config = apps.get_app_config("pulse")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP_NAME)
    codenames = [f"{action}_{model}" for model, actions in PERMISSIONS for action in actions]
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="pulse", codename__in=codenames)
    )


def delete_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP_NAME).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("pulse", "0002_library_indexes_and_messages"),
    ]

    operations = [
        migrations.RunPython(create_group, delete_group),
    ]
