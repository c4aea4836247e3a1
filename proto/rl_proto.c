#include "rl_proto.h"
