"""On-the-fly environment builds: options, repository specs, image names, signatures, events.

`config.Builds` holds the options; `providers` parses BinderHub specs and resolves refs;
`naming` makes BinderHub's image names; `signing` signs (user, image); `events` is the
BinderHub event stream. Executors and the broker build on these.
"""
