"""Create the installation's default network (Kratos creates one on `migrate sql`)."""
import uuid

from django.db import migrations
from django.utils import timezone


def create_default_network(apps, schema_editor):
    Network = apps.get_model("identities", "Network")
    if not Network.objects.exists():
        now = timezone.now()
        Network.objects.create(id=uuid.uuid4(), created_at=now, updated_at=now)


def delete_networks(apps, schema_editor):
    apps.get_model("identities", "Network").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("identities", "0001_initial")]
    operations = [migrations.RunPython(create_default_network, delete_networks)]
