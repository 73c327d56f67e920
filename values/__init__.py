"""Value types that several layers share and none owns, below all of them: imports nothing of ours.

chat.py   `Caller` (who typed a command, with a lazy `role_check` giving an `EditorStatus`) and
          `ChannelRef` (where): the command layer, the adapters and `storage.channels_repo` speak of them
query.py  `NewsQuery`, a parsed `/news` search: `handlers.news.query` builds it, `storage.search` runs it
clock.py  `utc_now()`, the clock every layer defaults to (times are aware UTC everywhere)
doctor.py `DoctorCheck`, one line of `bot.py doctor`: the Slack and Discord adapters check their
          platform, `cli/doctor_cmd.py` runs the rest and prints them all
"""
