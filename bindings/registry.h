/* The registration list: every capability the firmware offers, one line each; adding a capability adds its line here. */
#ifndef COHESIX_BINDINGS_REGISTRY_H
#define COHESIX_BINDINGS_REGISTRY_H

/*
 * X(ID, name): the capability's CapId is CAP_<ID>, its grant bit 1 << CAP_<ID> (the position in this
 * list, so a new line goes last: manifests and grant masks already issued keep their bits), its
 * name in manifests and in js/caps/index.ts is `name`, and bindings/<name>.c (image_cap.c for
 * `image`, apart from the firmware's verifier firmware/image.c) defines its entry
 * `const CapRegistration cap_<name>_registration` (firmware/task_table.h says what an entry holds).
 */
#define COHESIX_CAPABILITIES(X) \
  X(LOG, log)                   \
  X(CONSOLE, console)           \
  X(NET, net)                   \
  X(TIMER, timer)               \
  X(CHANNEL, channel)           \
  X(TASK, task)                 \
  X(IMAGE, image)               \
  X(UPDATE, update)

#endif
