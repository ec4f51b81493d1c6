//! [`SessionCache`]: the bounded in-memory store of resumable sessions (TLS 1.3 tickets,
//! TLS 1.2 session ids and tickets) and key-exchange hints of one [`Config`](crate::Config),
//! for rustls. `no_std`: a spin lock, no clock (rustls checks ticket expiry itself).

use alloc::collections::VecDeque;
use core::fmt;

use rustls::client::{ClientSessionStore, Tls12ClientSessionValue, Tls13ClientSessionValue};
use rustls::pki_types::ServerName;
use rustls::NamedGroup;

/// Most TLS 1.3 tickets kept per server (servers usually send two; each is used once).
const TICKETS_PER_SERVER: usize = 4;

/// What is remembered about one server.
#[derive(Default)]
struct Entry {
    kx_hint: Option<NamedGroup>,
    tls12: Option<Tls12ClientSessionValue>,
    tls13: VecDeque<Tls13ClientSessionValue>,
}

/// A bounded store of resumable sessions, least recently used server evicted first.
pub(crate) struct SessionCache {
    /// Servers, least recently used first.
    servers: spin::Mutex<VecDeque<(ServerName<'static>, Entry)>>,
    capacity: usize,
}

impl fmt::Debug for SessionCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print session secrets; the count is enough.
        f.debug_struct("SessionCache")
            .field("servers", &self.servers.lock().len())
            .field("capacity", &self.capacity)
            .finish()
    }
}

impl SessionCache {
    /// A cache for up to `capacity` servers (at least one).
    pub(crate) fn new(capacity: usize) -> SessionCache {
        SessionCache {
            servers: spin::Mutex::new(VecDeque::new()),
            capacity: capacity.max(1),
        }
    }

    /// Runs `f` on the entry for `name`, creating it (and evicting the least recently
    /// used server) if needed; the entry becomes the most recently used.
    fn with_entry<R>(
        &self,
        name: &ServerName<'_>,
        create: bool,
        f: impl FnOnce(&mut Entry) -> R,
    ) -> Option<R> {
        let mut servers = self.servers.lock();
        let found = servers.iter().position(|(n, _)| n == name);
        let mut entry = match found {
            Some(i) => servers.remove(i)?,
            None if create => {
                while servers.len() >= self.capacity {
                    servers.pop_front();
                }
                (name.to_owned(), Entry::default())
            }
            None => return None,
        };
        let result = f(&mut entry.1);
        servers.push_back(entry);
        Some(result)
    }

    /// Servers with something stored (for tests and reports).
    pub(crate) fn len(&self) -> usize {
        self.servers.lock().len()
    }
}

impl ClientSessionStore for SessionCache {
    fn set_kx_hint(&self, server_name: ServerName<'static>, group: NamedGroup) {
        self.with_entry(&server_name, true, |e| e.kx_hint = Some(group));
    }

    fn kx_hint(&self, server_name: &ServerName<'_>) -> Option<NamedGroup> {
        self.with_entry(server_name, false, |e| e.kx_hint).flatten()
    }

    fn set_tls12_session(&self, server_name: ServerName<'static>, value: Tls12ClientSessionValue) {
        self.with_entry(&server_name, true, |e| e.tls12 = Some(value));
    }

    fn tls12_session(&self, server_name: &ServerName<'_>) -> Option<Tls12ClientSessionValue> {
        self.with_entry(server_name, false, |e| e.tls12.clone())
            .flatten()
    }

    fn remove_tls12_session(&self, server_name: &ServerName<'static>) {
        self.with_entry(server_name, false, |e| e.tls12 = None);
    }

    fn insert_tls13_ticket(
        &self,
        server_name: ServerName<'static>,
        value: Tls13ClientSessionValue,
    ) {
        self.with_entry(&server_name, true, |e| {
            if e.tls13.len() >= TICKETS_PER_SERVER {
                e.tls13.pop_front();
            }
            e.tls13.push_back(value);
        });
    }

    fn take_tls13_ticket(
        &self,
        server_name: &ServerName<'static>,
    ) -> Option<Tls13ClientSessionValue> {
        // The newest ticket first: it lives longest.
        self.with_entry(server_name, false, |e| e.tls13.pop_back())
            .flatten()
    }
}

/// Names of the servers in `cache`, least recently used first (tests).
#[cfg(test)]
fn names(cache: &SessionCache) -> alloc::vec::Vec<ServerName<'static>> {
    cache
        .servers
        .lock()
        .iter()
        .map(|(n, _)| n.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> ServerName<'static> {
        ServerName::try_from(alloc::string::String::from(s)).unwrap() // ok: test code
    }

    #[test]
    fn bounded_and_least_recently_used_first_out() {
        let cache = SessionCache::new(2);
        cache.set_kx_hint(name("a.example"), NamedGroup::X25519);
        cache.set_kx_hint(name("b.example"), NamedGroup::secp256r1);
        // Using a makes b the least recently used.
        assert_eq!(cache.kx_hint(&name("a.example")), Some(NamedGroup::X25519));
        cache.set_kx_hint(name("c.example"), NamedGroup::secp384r1);
        assert_eq!(cache.len(), 2);
        assert_eq!(names(&cache), [name("a.example"), name("c.example")]);
        assert_eq!(cache.kx_hint(&name("b.example")), None);
        // Looking up an unknown server stores nothing.
        assert!(cache.take_tls13_ticket(&name("d.example")).is_none());
        assert_eq!(cache.len(), 2);
    }
}
