"""The REST API for dashboards (DESIGN §6): routers, authentication, health and metrics."""
