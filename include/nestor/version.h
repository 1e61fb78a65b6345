#ifndef NESTOR_VERSION_H
#define NESTOR_VERSION_H
#define NESTOR_VERSION "0.1"
#endif
