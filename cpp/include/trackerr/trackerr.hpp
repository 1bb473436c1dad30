// Umbrella header: everything a C++ user of trackerr needs.
#pragma once

#include "batch.hpp"
#include "comoments.hpp"
#include "metrics.hpp"
#include "panel.hpp"
#include "rolling.hpp"
#include "rolling_time.hpp"
#include "risk.hpp"
#include "stream.hpp"
#include "view.hpp"
#include "window.hpp"
