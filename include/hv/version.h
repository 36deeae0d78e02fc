/* utsuwa's version, as GET /host gives it (docs/api.md). */
#ifndef HV_VERSION_H
#define HV_VERSION_H

#define UTSUWA_VERSION "0.11.0" /* the issue the management API came with */

#endif
