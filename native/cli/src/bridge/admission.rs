//! Admission control: slots for handshakes in progress, for tunnels, for connections being
//! refused, and per client address. Each slot is an RAII permit, so a slot can never
//! outlive the task that holds it, whatever way that task ends.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::options::{Limits, MAX_REFUSING};

/// The counters behind the permits.
#[derive(Debug)]
pub(crate) struct Admission {
    limits: Limits,
    handshakes: AtomicUsize,
    tunnels: AtomicUsize,
    refusing: AtomicUsize,
    per_ip: Mutex<HashMap<IpKey, usize>>,
}

/// A client address as counted by the per-address cap: IPv4 as is, IPv6 by its /64
/// (one host usually has a whole /64); IPv4-mapped IPv6 as IPv4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum IpKey {
    V4([u8; 4]),
    V6([u8; 8]),
}

impl From<IpAddr> for IpKey {
    fn from(ip: IpAddr) -> IpKey {
        match ip {
            IpAddr::V4(v4) => IpKey::V4(v4.octets()),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpKey::V4(v4.octets()),
                None => {
                    let o = v6.octets();
                    IpKey::V6([o[0], o[1], o[2], o[3], o[4], o[5], o[6], o[7]])
                }
            },
        }
    }
}

/// Why a connection was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Full {
    /// Too many handshakes in progress (503).
    Handshakes,
    /// Too many tunnels (503).
    Tunnels,
    /// Too many connections from this address (429).
    PerIp,
}

impl Full {
    pub(crate) fn status(self) -> u16 {
        match self {
            Full::PerIp => 429,
            Full::Handshakes | Full::Tunnels => 503,
        }
    }

    pub(crate) fn word(self) -> &'static str {
        match self {
            Full::Handshakes => "handshakes_full",
            Full::Tunnels => "tunnels_full",
            Full::PerIp => "per_ip_full",
        }
    }

    pub(crate) fn reason(self, limits: &Limits) -> String {
        match self {
            Full::Handshakes => format!(
                "too many handshakes in progress (limit {}); try again shortly",
                limits.handshakes
            ),
            Full::Tunnels => format!(
                "too many tunnels (limit {}); try again shortly",
                limits.tunnels
            ),
            Full::PerIp => format!(
                "too many connections from your address (limit {})",
                limits.per_ip
            ),
        }
    }
}

/// A slot taken in one of the counters; given back when dropped.
#[derive(Debug)]
pub(crate) struct Permit {
    admission: Arc<Admission>,
    kind: Slot,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Handshake,
    Tunnel,
    Refusing,
    Ip(IpKey),
}

impl Drop for Permit {
    fn drop(&mut self) {
        let a = &self.admission;
        match self.kind {
            Slot::Handshake => {
                a.handshakes.fetch_sub(1, Ordering::SeqCst);
            }
            Slot::Tunnel => {
                a.tunnels.fetch_sub(1, Ordering::SeqCst);
            }
            Slot::Refusing => {
                a.refusing.fetch_sub(1, Ordering::SeqCst);
            }
            Slot::Ip(key) => {
                let mut map = a.per_ip.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(n) = map.get_mut(&key) {
                    *n = n.saturating_sub(1);
                    if *n == 0 {
                        map.remove(&key);
                    }
                }
            }
        }
    }
}

fn take(counter: &AtomicUsize, limit: usize) -> bool {
    counter
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
            (n < limit).then_some(n + 1)
        })
        .is_ok()
}

impl Admission {
    pub(crate) fn new(limits: Limits) -> Arc<Admission> {
        Arc::new(Admission {
            limits,
            handshakes: AtomicUsize::new(0),
            tunnels: AtomicUsize::new(0),
            refusing: AtomicUsize::new(0),
            per_ip: Mutex::new(HashMap::new()),
        })
    }

    pub(crate) fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Handshakes in progress.
    pub(crate) fn handshakes(&self) -> usize {
        self.handshakes.load(Ordering::SeqCst)
    }

    /// Tunnels open (including those still connecting to their target).
    pub(crate) fn tunnels(&self) -> usize {
        self.tunnels.load(Ordering::SeqCst)
    }

    /// Admits a new connection from `ip` into the handshake: an address slot and a
    /// handshake slot, or why not. Checked at accept time, before anything is read, so
    /// that an overloaded bridge answers at once.
    pub(crate) fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<(Permit, Permit), Full> {
        let ip_permit = self.take_ip(ip)?;
        if self.tunnels() >= self.limits.tunnels {
            return Err(Full::Tunnels);
        }
        if !take(&self.handshakes, self.limits.handshakes) {
            return Err(Full::Handshakes);
        }
        Ok((
            ip_permit,
            Permit {
                admission: self.clone(),
                kind: Slot::Handshake,
            },
        ))
    }

    /// A tunnel slot, for a connection whose handshake was accepted.
    pub(crate) fn tunnel(self: &Arc<Self>) -> Result<Permit, Full> {
        if take(&self.tunnels, self.limits.tunnels) {
            Ok(Permit {
                admission: self.clone(),
                kind: Slot::Tunnel,
            })
        } else {
            Err(Full::Tunnels)
        }
    }

    /// A slot for answering a refused connection (bounded: beyond it, connections are
    /// dropped without an answer).
    pub(crate) fn refusing(self: &Arc<Self>) -> Option<Permit> {
        take(&self.refusing, MAX_REFUSING).then(|| Permit {
            admission: self.clone(),
            kind: Slot::Refusing,
        })
    }

    fn take_ip(self: &Arc<Self>, ip: IpAddr) -> Result<Permit, Full> {
        let key = IpKey::from(ip);
        let mut map = self.per_ip.lock().unwrap_or_else(|e| e.into_inner());
        let n = map.entry(key).or_insert(0);
        if self.limits.per_ip > 0 && *n >= self.limits.per_ip {
            if *n == 0 {
                map.remove(&key);
            }
            return Err(Full::PerIp);
        }
        *n += 1;
        Ok(Permit {
            admission: self.clone(),
            kind: Slot::Ip(key),
        })
    }

    /// Addresses with at least one connection (for tests and metrics).
    pub(crate) fn addresses(&self) -> usize {
        self.per_ip.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bridge::options::BridgeOptions;

    #[test]
    fn permits_count_and_give_back() {
        let mut o = BridgeOptions::new(&["a:1"]);
        o.max_connections = Some(2);
        o.max_handshakes = Some(3);
        o.max_per_ip = 3;
        let a = Admission::new(Limits::new(&o, 1024));
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let other: IpAddr = "10.0.0.2".parse().unwrap();
        let h1 = a.admit(ip).unwrap();
        let h2 = a.admit(ip).unwrap();
        let h3 = a.admit(ip).unwrap();
        assert_eq!(a.admit(other).unwrap_err(), Full::Handshakes);
        let t1 = a.tunnel().unwrap();
        let t2 = a.tunnel().unwrap();
        assert_eq!(a.tunnel().unwrap_err(), Full::Tunnels);
        drop(h1);
        assert_eq!(
            a.admit(other).unwrap_err(),
            Full::Tunnels,
            "tunnels full first"
        );
        drop((t1, t2));
        let h4 = a.admit(ip).unwrap();
        assert_eq!(a.admit(ip).unwrap_err(), Full::PerIp, "3 from one address");
        drop((h2, h3, h4));
        assert_eq!((a.handshakes(), a.tunnels(), a.addresses()), (0, 0, 0));
    }

    #[test]
    fn ipv6_counts_per_64() {
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(IpKey::from(a), IpKey::from(b));
        assert_ne!(IpKey::from(a), IpKey::from(c));
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(
            IpKey::from(mapped),
            IpKey::from("10.0.0.1".parse::<IpAddr>().unwrap())
        );
    }
}
