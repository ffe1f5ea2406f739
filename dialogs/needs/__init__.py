"""Feature: captured customer needs: the /need form and its fields, /myneeds, the managers'
/needs browser, filters, views and exports.

Imports: `core`, `understanding`, `knowledge`, `storage`; never another feature.
"""
