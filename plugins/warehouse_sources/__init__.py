"""warehouse-sources: sync databases and files into a Delta Lake warehouse from Airflow.

Importing the package is cheap on purpose: DAG parsing imports it, so the heavy libraries
(deltalake, pyarrow, ADBC) are imported only inside the functions that tasks call.
"""

from __future__ import annotations

__version__ = "0.1.0"
