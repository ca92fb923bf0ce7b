"""What both of Airflow's sides read: the stored table switches and delete marker, the warehouse's
storage options, and how a table is named.

The task side (airflow/) and the API-server side (web/) import these and never each other. Modules
here may use Airflow's public Task SDK (Variables, connections) and the layers below (config, plan,
sources, warehouse), never airflow/ or web/ (tests/unit/test_layers.py).
"""
