/* commands.h: the subcommands of the tokencard tool. Each returns the process
 * exit status: 0 success, 1 a negative answer (invalid ATR...), 2 usage error. */
#ifndef TOKENCARD_COMMANDS_H
#define TOKENCARD_COMMANDS_H

int cmd_atr(int argc, char **argv);      /* cmd_atr.c: explain an ATR */
int cmd_trace(int argc, char **argv);    /* cmd_trace.c: decode a recorded wire session */
int cmd_demo(int argc, char **argv);     /* cmd_demo.c: a session with tokencard-sim */
int cmd_exercise(int argc, char **argv); /* cmd_exercise.c: test application, checked */

int cmd_rig(int argc, char **argv); /* cmd_rig.c: private pcscd with loopback readers */

int cmd_readers(int argc, char **argv); /* cmd_pcsc.c: PC/SC readers and cards */
int cmd_apdu(int argc, char **argv);    /* cmd_pcsc_apdu.c: APDUs through PC/SC */
int cmd_watch(int argc, char **argv);   /* cmd_pcsc_watch.c: card and reader events */

int cmd_card(int argc, char **argv); /* cmd_card.c: the deposit-token card through PC/SC */

#endif
