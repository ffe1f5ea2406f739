"""Feature: people and access: /start and invitations, /whoami, /invite, /audit and /team.

Imports: `core`, `understanding`, `knowledge`, `storage`; never another feature.
"""
