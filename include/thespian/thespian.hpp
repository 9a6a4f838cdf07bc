// The umbrella header: everything a user of the library needs.
#pragma once

#include "thespian/actor.hpp"
#include "thespian/actor_system.hpp"
#include "thespian/address.hpp"
#include "thespian/capabilities.hpp"
#include "thespian/errors.hpp"
#include "thespian/external_context.hpp"
#include "thespian/fwd.hpp"
#include "thespian/logger.hpp"
#include "thespian/message.hpp"
#include "thespian/system_messages.hpp"
#include "thespian/system_options.hpp"
#include "thespian/type_dispatcher.hpp"
