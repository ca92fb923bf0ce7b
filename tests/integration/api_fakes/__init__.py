"""Local HTTP servers that speak Stripe's and HubSpot's documented contracts over generated data."""
