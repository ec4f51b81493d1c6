//! The server side of the adapter, for the testing kit's in-memory server
//! ([`crate::testing::Pair`]): the same pump over rustls' `UnbufferedServerConnection`.

use rustls::server::{ServerConnectionData, UnbufferedServerConnection};
use rustls::unbuffered::UnbufferedStatus;

use super::Conn;

impl Conn for UnbufferedServerConnection {
    type Data = ServerConnectionData;

    fn process<'c, 'i>(
        &'c mut self,
        incoming: &'i mut [u8],
    ) -> UnbufferedStatus<'c, 'i, Self::Data> {
        self.process_tls_records(incoming)
    }
}
