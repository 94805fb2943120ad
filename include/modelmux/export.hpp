#pragma once
// MODELMUX_API marks the symbols libmodelmux exports. Everything else in the library (the gateway's
// internal layers, Boost.Asio, ...) is hidden, so a program may use its own Asio, Boost or
// yaml-cpp versions next to the SDK without symbol clashes.

#if defined(_WIN32)
#if defined(MODELMUX_BUILDING_SDK)
#define MODELMUX_API __declspec(dllexport)
#else
#define MODELMUX_API __declspec(dllimport)
#endif
#elif defined(__GNUC__) || defined(__clang__)
#define MODELMUX_API __attribute__((visibility("default")))
#else
#define MODELMUX_API
#endif

// The public types are declared in namespace modelmux::sdk, and each public header brings them into
// namespace modelmux with using-declarations, so programs write modelmux::Client,
// modelmux::Error, ... The library's own sources define MODELMUX_BUILDING_SDK: they skip the
// using-declarations because modelmux's internal layers have types of the same names
// (modelmux::Error, modelmux::Message) in namespace modelmux.
