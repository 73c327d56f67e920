"""The `/news` command layer, once for every platform: a command line in, a `NewsReply` out.

`service.NewsService` dispatches a line to the command families (`search`, `story`, `digest`, `channel`,
`feeds`), which answer from `storage/`; `views` is the reply every adapter renders and `views.NewsAnswerer`
the one protocol adapters call. Nothing here knows a chat platform.
"""
