"""Everything users touch: the command line now; Slack listeners and the terminal chat later."""
