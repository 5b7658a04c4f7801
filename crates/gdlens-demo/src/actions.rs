//! Builders for `service.action` (one per action type) and the other per-kind sub-objects.

use rand::Rng;

use crate::entities::{hex, RemoteIp};
use crate::json::Json;

fn port_name(port: u16) -> &'static str {
    match port {
        22 => "SSH",
        23 => "Telnet",
        80 => "HTTP",
        443 => "HTTPS",
        445 => "SMB",
        3306 => "MYSQL",
        3389 => "RDP",
        5432 => "POSTGRESQL",
        5985 => "WINRM",
        6379 => "REDIS",
        8080 => "HTTP",
        9200 => "ELASTICSEARCH",
        _ => "Unknown",
    }
}

fn port(p: u16) -> Json {
    Json::obj([("port", p.into()), ("portName", port_name(p).into())])
}

/// `NETWORK_CONNECTION` action.
pub fn network_connection(
    remote: &RemoteIp,
    local_ip: &str,
    local_port: u16,
    remote_port: u16,
    inbound: bool,
) -> Json {
    Json::obj([
        ("actionType", "NETWORK_CONNECTION".into()),
        (
            "networkConnectionAction",
            Json::obj([
                ("blocked", false.into()),
                (
                    "connectionDirection",
                    if inbound { "INBOUND" } else { "OUTBOUND" }.into(),
                ),
                (
                    "localIpDetails",
                    Json::obj([("ipAddressV4", local_ip.into())]),
                ),
                ("localPortDetails", port(local_port)),
                ("protocol", "TCP".into()),
                ("remoteIpDetails", remote.details()),
                ("remotePortDetails", port(remote_port)),
            ]),
        ),
    ])
}

/// `PORT_PROBE` action with one probe per (port, remote).
pub fn port_probe(probes: &[(u16, &RemoteIp)], local_ip: &str) -> Json {
    let details = probes
        .iter()
        .map(|(p, remote)| {
            Json::obj([
                (
                    "localIpDetails",
                    Json::obj([("ipAddressV4", local_ip.into())]),
                ),
                ("localPortDetails", port(*p)),
                ("remoteIpDetails", remote.details()),
            ])
        })
        .collect();
    Json::obj([
        ("actionType", "PORT_PROBE".into()),
        (
            "portProbeAction",
            Json::obj([
                ("blocked", false.into()),
                ("portProbeDetails", Json::Arr(details)),
            ]),
        ),
    ])
}

/// `DNS_REQUEST` action.
pub fn dns_request(domain: &str) -> Json {
    let suffix = domain.rsplitn(3, '.').take(2).collect::<Vec<_>>();
    let with_suffix = suffix.into_iter().rev().collect::<Vec<_>>().join(".");
    Json::obj([
        ("actionType", "DNS_REQUEST".into()),
        (
            "dnsRequestAction",
            Json::obj([
                ("blocked", false.into()),
                ("domain", domain.into()),
                ("domainWithSuffix", with_suffix.into()),
                ("protocol", "UDP".into()),
            ]),
        ),
    ])
}

/// `AWS_API_CALL` action. `remote_account` adds `remoteAccountDetails` (cross-account calls).
pub fn api_call(
    api: &str,
    service: &str,
    user_agent: &str,
    remote: &RemoteIp,
    remote_account: Option<&str>,
) -> Json {
    let mut call = Json::obj([
        ("affectedResources", Json::obj([])),
        ("api", api.into()),
        ("callerType", "Remote IP".into()),
        ("remoteIpDetails", remote.details()),
        ("serviceName", service.into()),
        ("userAgent", user_agent.into()),
    ]);
    if let Some(acct) = remote_account {
        call.push(
            "remoteAccountDetails",
            Json::obj([("accountId", acct.into()), ("affiliated", true.into())]),
        );
    }
    Json::obj([
        ("actionType", "AWS_API_CALL".into()),
        ("awsApiCallAction", call),
    ])
}

/// `KUBERNETES_API_CALL` action.
pub fn kubernetes_call(
    uri: &str,
    verb: &str,
    user_agent: &str,
    remote: &RemoteIp,
    status: i64,
) -> Json {
    Json::obj([
        ("actionType", "KUBERNETES_API_CALL".into()),
        (
            "kubernetesApiCallAction",
            Json::obj([
                ("remoteIpDetails", remote.details()),
                ("requestUri", uri.into()),
                ("sourceIps", Json::Arr(vec![remote.ip.as_str().into()])),
                ("statusCode", status.into()),
                ("userAgent", user_agent.into()),
                ("verb", verb.into()),
            ]),
        ),
    ])
}

/// `RDS_LOGIN_ATTEMPT` action (note the wire's capital `LoginAttributes`).
pub fn rds_login(remote: &RemoteIp, user: &str, failed: u64, succeeded: u64) -> Json {
    Json::obj([
        ("actionType", "RDS_LOGIN_ATTEMPT".into()),
        (
            "rdsLoginAttemptAction",
            Json::obj([
                (
                    "LoginAttributes",
                    Json::Arr(vec![Json::obj([
                        ("application", "psql".into()),
                        ("failedLoginAttempts", failed.into()),
                        ("successfulLoginAttempts", succeeded.into()),
                        ("user", user.into()),
                    ])]),
                ),
                ("remoteIpDetails", remote.details()),
            ]),
        ),
    ])
}

/// `runtimeDetails` for a process, optionally with the remote address it talked to.
pub fn runtime_details(
    rng: &mut impl Rng,
    process: &str,
    path: &str,
    remote: Option<&RemoteIp>,
) -> Json {
    let pid = rng.gen_range(300..60_000) as i64;
    let mut context = Json::obj([]);
    if let Some(r) = remote {
        context.push("addressFamily", "AF_INET".into());
        context.push("ianaProtocolNumber", 6i64.into());
        context.push("remoteIpDetails", r.details());
    }
    Json::obj([
        ("context", context),
        (
            "process",
            Json::obj([
                ("euid", 0i64.into()),
                ("executablePath", path.into()),
                ("executableSha256", hex(rng, 64).into()),
                (
                    "lineage",
                    Json::Arr(vec![Json::obj([
                        ("euid", 0i64.into()),
                        ("executablePath", "/bin/sh".into()),
                        ("name", "sh".into()),
                        ("pid", (pid - 1).into()),
                    ])]),
                ),
                ("name", process.into()),
                ("namespacePid", rng.gen_range(1..500i64).into()),
                ("parentUuid", crate::entities::uuid(rng).into()),
                ("pid", pid.into()),
                ("pwd", "/tmp".into()),
                ("user", "root".into()),
                ("userId", 0i64.into()),
                ("uuid", crate::entities::uuid(rng).into()),
            ]),
        ),
    ])
}
