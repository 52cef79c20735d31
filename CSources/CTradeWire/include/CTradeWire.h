#ifndef CTRADEWIRE_H
#define CTRADEWIRE_H
#include "tw_error.h"
#include "tw_frame.h"
#include "tw_utf8.h"
#include "tw_http.h"
#include "tw_ws.h"
#include "tw_loop.h"
#include "tw_cert.h"
#include "tw_sign.h"
#include "tw_crc32.h"
#endif
