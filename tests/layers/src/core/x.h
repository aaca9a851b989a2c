#pragma once
// A foundation that reaches up into a module: the layer check must refuse it.
#include "modules/a/a.h"
