"""The Discord adapter: `/news` application commands rebuilt into command lines, embeds, the REST poster and
the gateway client. `runtime` wires them."""
