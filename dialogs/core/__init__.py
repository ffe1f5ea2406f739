"""Ground floor: the per-event context, events and replies, buttons (callback data), the Dialog base,
permissions, the command catalogue and the main menu.

Imports: `knowledge`, `storage` and itself; never a feature package or the composition root.
"""
