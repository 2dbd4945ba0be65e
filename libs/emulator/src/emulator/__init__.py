"""Shared plumbing of the ITSM emulators (fake-jira, fake-servicenow).

One place for what every emulator needs around its own API: Basic-auth accounts
(`accounts`), the per-account burst limiter and fault injection (`limits`), the gate that holds
page responses (`gate`), request counters and metrics (`stats`), the admission step every API
request goes through (`core`), the `/_admin` API and health routes (`admin`), the counting
middleware (`middleware`), seeded data helpers (`seeding`), settings and CLI loading
(`settings`), and uvicorn start-up, in-process or as a process, with optional TLS (`server`,
`tls`).
"""
