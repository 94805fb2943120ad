// The one translation unit that compiles Asio, Beast and their SSL parts (separate compilation),
// so that no other file pays for their definitions.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
