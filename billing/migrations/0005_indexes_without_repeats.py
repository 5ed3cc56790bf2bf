"""Indexes that repeated the first columns of a unique or composite index are dropped: the
billing import and every write to these tables maintain fewer, and every look-up still has one."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0004_postings_and_import_constraints'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='invoice',
            name='billing_inv_account_c771e7_idx',
        ),
        migrations.RemoveIndex(
            model_name='reading',
            name='billing_rea_meter_i_29bfce_idx',
        ),
        migrations.AlterField(
            model_name='invoice',
            name='account',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='invoices', to='billing.account'),
        ),
        migrations.AlterField(
            model_name='invoiceline',
            name='invoice',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='lines', to='billing.invoice'),
        ),
        migrations.AlterField(
            model_name='payment',
            name='account',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='payments', to='billing.account'),
        ),
        migrations.AlterField(
            model_name='reading',
            name='meter',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='readings', to='billing.meter'),
        ),
    ]
