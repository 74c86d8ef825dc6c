from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("crm_types", "0001_typed_entities")]

    operations = [
        migrations.AlterField(
            model_name="widget",
            name="notes",
            field=models.TextField(blank=True, max_length=10000),
        ),
    ]
