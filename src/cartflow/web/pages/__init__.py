"""The pages, one module per role or topic; `cartflow.web.routes` mounts them."""
