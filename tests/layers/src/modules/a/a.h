#pragma once
#include "core/x.h"
