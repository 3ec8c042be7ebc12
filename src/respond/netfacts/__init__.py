"""Vendor-neutral network facts: the same structure from Cisco IOS/NX-OS, Huawei VRP and H3C
Comware devices (interfaces, neighbours, routes, running configuration).

Per-family commands, parsed with ntc-templates, then mapped to one shape by a thin
normaliser. Placeholder: filled by the facts work.
"""
