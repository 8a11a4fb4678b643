"""The hub-managed service: pages, APIs and static assets at /services/hub-extensions/."""
