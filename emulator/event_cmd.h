/* `lambkin event`: sample events for each source (see event_cmd.c). */
#ifndef LK_EVENT_CMD_H
#define LK_EVENT_CMD_H

/* argv as main() got it: argv[1] is "event", argv[2] the source. */
int lk_cmd_event(int argc, char **argv);

#endif
