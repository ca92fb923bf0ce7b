"""The API-server side: the plugin's FastAPI app (routes, Airflow's auth, status assembly) and ui/."""
