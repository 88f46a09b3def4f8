//! Protocol corner cases against a scripted server on 127.0.0.1 (the real
//! public-inbox-nntpd is exercised in tests/servers.rs).

use super::*;
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;

/// A server that greets, then answers each command line with the response
/// `answer` gives for it, and records the commands.
async fn scripted_server(
    answer: fn(&str) -> String,
) -> (u16, tokio::task::JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    let task = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.expect("accept");
        socket
            .write_all(b"200 scripted ready\r\n")
            .await
            .expect("greet");
        let mut commands = Vec::new();
        let mut buffer = Vec::new();
        loop {
            let mut chunk = [0u8; 1024];
            let read = socket.read(&mut chunk).await.expect("read");
            if read == 0 {
                return commands;
            }
            buffer.extend_from_slice(&chunk[..read]);
            while let Some(end) = buffer.windows(2).position(|pair| pair == b"\r\n") {
                let command = String::from_utf8(buffer[..end].to_vec()).expect("ascii command");
                buffer.drain(..end + 2);
                socket
                    .write_all(answer(&command).as_bytes())
                    .await
                    .expect("answer");
                let quit = command == "QUIT";
                commands.push(command);
                if quit {
                    return commands;
                }
            }
        }
    });
    (port, task)
}

fn answer(command: &str) -> String {
    match command {
        "MODE READER" => "201 no posting\r\n".into(),
        "GROUP test.group" => "211 3 1 3 test.group\r\n".into(),
        "OVER 1-3" => "500 what?\r\n".into(),
        "XOVER 1-3" => concat!(
            "224 overview\r\n",
            "1\tFirst\ta@b\tdate\t<1@x>\t\t10\t1\r\n",
            "2\tSecond\ta@b\tdate\t<2@x>\t<1@x>\t10\t1\r\n",
            "3\tThird\ta@b\tdate\t<3@x>\t\t10\t1\r\n",
            ".\r\n"
        )
        .into(),
        "XOVER 3-3" => "224 overview\r\n3\tThird\ta@b\tdate\t<3@x>\t\t10\t1\r\n.\r\n".into(),
        "ARTICLE 1" => concat!(
            "220 1 <1@x>\r\n",
            "Message-ID: <1@x>\r\n",
            "\r\n",
            "..From a dot\r\n",
            "..\r\n",
            "plain\r\n",
            ".\r\n"
        )
        .into(),
        "ARTICLE 2" => "423 gone\r\n".into(),
        "ARTICLE 3" => "220 3 <3@x>\r\nMessage-ID: <3@x>\r\n\r\nthree\r\n.\r\n".into(),
        "QUIT" => "205 bye\r\n".into(),
        _ => "500 unknown\r\n".into(),
    }
}

async fn read_all(source: &mut NntpSource) -> Vec<String> {
    let mut messages = Vec::new();
    while let Some(message) = source.next_message().await.expect("read") {
        messages.push(String::from_utf8(message.bytes).expect("utf-8"));
    }
    messages
}

#[tokio::test]
async fn unstuffs_falls_back_to_xover_and_skips_missing_articles() {
    let (port, server) = scripted_server(answer).await;
    let mut source = NntpSource::open("k".into(), "127.0.0.1", port, "test.group", None)
        .await
        .expect("open");
    assert_eq!(
        source.group_info(),
        GroupInfo {
            count: 3,
            low: 1,
            high: 3
        }
    );
    let messages = read_all(&mut source).await;
    assert_eq!(
        messages,
        [
            "Message-ID: <1@x>\n\n.From a dot\n.\nplain\n",
            "Message-ID: <3@x>\n\nthree\n"
        ]
    );
    assert_eq!(source.cursor(), "3");
    let diagnostics = source.take_diagnostics();
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    assert!(
        diagnostics[0].location.ends_with("article 2"),
        "{}",
        diagnostics[0]
    );
    source.client.quit().await;
    let commands = server.await.expect("server task");
    assert_eq!(
        commands,
        [
            "MODE READER",
            "GROUP test.group",
            "OVER 1-3",
            "XOVER 1-3",
            "ARTICLE 1",
            "ARTICLE 2",
            "ARTICLE 3",
            "QUIT"
        ]
    );
}

#[tokio::test]
async fn resumes_after_the_cursor() {
    let (port, server) = scripted_server(answer).await;
    let mut source = NntpSource::open("k".into(), "127.0.0.1", port, "test.group", Some("2"))
        .await
        .expect("open");
    assert_eq!(
        read_all(&mut source).await,
        ["Message-ID: <3@x>\n\nthree\n"]
    );
    source.client.quit().await;
    let commands = server.await.expect("server task");
    assert!(commands.contains(&"XOVER 3-3".to_owned()), "{commands:?}");
}

#[tokio::test]
async fn unknown_group_is_an_error_naming_server_and_group() {
    let (port, _server) = scripted_server(answer).await;
    let error = NntpSource::open("k".into(), "127.0.0.1", port, "no.such", None)
        .await
        .err()
        .expect("no such group");
    let text = error.to_string();
    assert!(
        text.contains("GROUP no.such") && text.contains("127.0.0.1"),
        "{text}"
    );
}

#[test]
fn overview_lines() {
    let entry =
        parse_overview("17\tSubj\tMe <m@x>\tMon, 1 Jan\t<id@x>\t<r@x>\t100\t5\tXref: h g:17")
            .expect("valid line");
    assert_eq!(entry.number, 17);
    assert_eq!(entry.message_id, "<id@x>");
    assert_eq!(entry.references, "<r@x>");
    assert!(parse_overview("not a number\tx").is_none());
}
