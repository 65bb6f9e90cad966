// systemd's readiness protocol (sd_notify(3)), spoken directly: one datagram
// to the socket $NOTIFY_SOCKET names, so the station needs no libsystemd. With
// Type=notify (ops/station-server.service) systemd counts the station started
// at READY=1, shows STATUS= in `systemctl status`, and knows from STOPPING=1
// that the stop it asked for is under way.
#pragma once

#include <string>

namespace station::server {

// Sends `state` ("READY=1\nSTATUS=..."); nothing when $NOTIFY_SOCKET is unset
// (not started by systemd) or unusable.
void NotifySystemd(const std::string& state);

}  // namespace station::server
