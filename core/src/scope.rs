//! What one connection learns from rustls callbacks that carry no connection: the
//! certificate verifier and the key log are shared by every connection of a
//! [`Config`](crate::Config) (rustls resumes a session only with the verifier that
//! verified it), yet the chain the server presented, the verifier's precise finding and
//! the exporter secrets belong to one connection.
//!
//! rustls calls both synchronously inside `process_tls_records`, so the connection that
//! is being pumped is "current" for the duration of the call ([`with`]), and the shared
//! callbacks write into it ([`current`]). With `std` the current connection is
//! per-thread; without it there is one per process and pumps are serialised by a lock
//! (`no_std` targets are single-threaded in practice; a second thread waits its turn).

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;

use once_cell::race::OnceBox;
use rustls::pki_types::CertificateDer;

use crate::error::CertificateFailure;

/// One connection's share of what the shared callbacks see.
#[derive(Debug, Default)]
pub(crate) struct ConnState {
    /// The chain the server presented, leaf first (unset before its Certificate message
    /// and on resumption, where rustls keeps the chain of the resumed session).
    pub chain: OnceBox<Vec<CertificateDer<'static>>>,
    /// The wall-clock time the verifier used, Unix seconds.
    pub now: OnceBox<u64>,
    /// The verifier's more precise reason for a refusal than rustls' error carries.
    pub finding: OnceBox<CertificateFailure>,
    /// TLS 1.3: the exporter master secret (key log label `EXPORTER_SECRET`).
    pub exporter_secret: OnceBox<Secret>,
    /// TLS 1.2: the master secret (key log label `CLIENT_RANDOM`).
    pub master_secret: OnceBox<Secret>,
    /// The client random both secrets were logged with.
    pub client_random: OnceBox<[u8; 32]>,
}

/// Key material, wiped when dropped and never printed.
pub(crate) struct Secret(pub zeroize::Zeroizing<Vec<u8>>);

impl core::fmt::Debug for Secret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl ConnState {
    pub(crate) fn chain(&self) -> Vec<CertificateDer<'static>> {
        self.chain.get().cloned().unwrap_or_default()
    }

    pub(crate) fn now(&self) -> Option<u64> {
        self.now.get().copied()
    }

    pub(crate) fn finding(&self) -> Option<CertificateFailure> {
        self.finding.get().cloned()
    }

    pub(crate) fn set_finding(&self, finding: CertificateFailure) {
        let _ = self.finding.set(Box::new(finding));
    }
}

#[cfg(feature = "std")]
mod imp {
    use super::*;
    use core::cell::RefCell;

    std::thread_local! {
        static CURRENT: RefCell<Option<Arc<ConnState>>> = const { RefCell::new(None) };
    }

    /// Runs `f` with `state` as the current connection of this thread.
    pub(crate) fn with<R>(state: &Arc<ConnState>, f: impl FnOnce() -> R) -> R {
        let previous = CURRENT.with(|c| c.replace(Some(state.clone())));
        let result = f();
        CURRENT.with(|c| *c.borrow_mut() = previous);
        result
    }

    /// The connection being pumped on this thread, if any.
    pub(crate) fn current() -> Option<Arc<ConnState>> {
        CURRENT.with(|c| c.borrow().clone())
    }
}

#[cfg(not(feature = "std"))]
mod imp {
    use super::*;

    /// Held while a connection is pumped, so that another thread's pump waits.
    static PUMP: spin::Mutex<()> = spin::Mutex::new(());
    static CURRENT: spin::Mutex<Option<Arc<ConnState>>> = spin::Mutex::new(None);

    /// Runs `f` with `state` as the current connection.
    pub(crate) fn with<R>(state: &Arc<ConnState>, f: impl FnOnce() -> R) -> R {
        let _turn = PUMP.lock();
        *CURRENT.lock() = Some(state.clone());
        let result = f();
        *CURRENT.lock() = None;
        result
    }

    /// The connection being pumped, if any.
    pub(crate) fn current() -> Option<Arc<ConnState>> {
        CURRENT.lock().clone()
    }
}

pub(crate) use imp::{current, with};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn current_is_set_only_inside_with() {
        assert!(current().is_none());
        let a = Arc::new(ConnState::default());
        let b = Arc::new(ConnState::default());
        with(&a, || {
            let seen = current().unwrap(); // ok: test code
            assert!(Arc::ptr_eq(&seen, &a));
            seen.set_finding(CertificateFailure::UnknownIssuer);
        });
        assert!(current().is_none());
        with(&b, || assert!(Arc::ptr_eq(&current().unwrap(), &b))); // ok: test code
        assert_eq!(a.finding(), Some(CertificateFailure::UnknownIssuer));
        assert_eq!(b.finding(), None);
    }
}
