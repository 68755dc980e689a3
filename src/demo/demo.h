/*
 * demo.h - the demo generator's interface, for the files of src/demo/:
 * the real header is include/rhis/demo.h (the CLI uses it too).
 */
#ifndef RHIS_SRC_DEMO_H
#define RHIS_SRC_DEMO_H

#include "rhis/demo.h"

#endif
