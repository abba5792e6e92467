#!/bin/sh
# A reward command that starts a background child which inherits stdout
# and outlives it (a server, a log shipper): goodhart's probe must still
# finish promptly with every result and leave no process behind.
#
# Scores every case 1. Environment (for the tests):
#   FORK_PIDFILE   write the child's pid there
#   FORK_TERM_AT   after this many cases, send SIGTERM to the parent
#                  (reportgen probe) and stop answering
sleep 300 &
if [ -n "$FORK_PIDFILE" ]; then
	echo $! >"$FORK_PIDFILE"
fi
n=0
while IFS= read -r line; do
	n=$((n + 1))
	echo 1
	if [ -n "$FORK_TERM_AT" ] && [ "$n" -eq "$FORK_TERM_AT" ]; then
		kill -TERM "$PPID"
		sleep 300
	fi
done
