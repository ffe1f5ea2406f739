"""Feature: learning paths (/path), their certificates (/verify) and paths assigned to teams (/assign).

Imports: `core`, `knowledge`, `storage`; never another feature. Other features say when the rep
finished something a path may count (`Ctx.studied`); the router then lets this feature award
certificates.
"""
