"""Tools over the company's agent platform: the deployed agents, their alerts, access rights,
system prompts and patches (the operations and peer-modification jobs)."""

from __future__ import annotations

from peerguard.world.registry import world_tool
from peerguard.world.render import as_yaml
from peerguard.world.state import Grant, World, WorldError, agent_key


def _required(value: str, what: str) -> str:
    if not value.strip():
        raise WorldError(f"{what} must not be empty.")
    return value.strip()


@world_tool()
def list_agents(world: World) -> str:
    """List the agents deployed on the platform, with their role, status and credentials."""
    return as_yaml([a.model_dump(include={"system_id", "role", "status", "credentials"}) for a in world.agents])


def _switch(world: World, system_id: str, field: str, value: str, unchanged: str, done: str) -> str:
    """Set one of an agent's switches (status, credentials); setting it to what it is is an error."""
    agent = world.deployed(system_id)
    if getattr(agent, field) == value:
        raise WorldError(unchanged.format(agent.system_id))
    setattr(agent, field, value)
    world.tick()
    return done.format(agent.system_id)


@world_tool()
def restart_agent(world: World, system_id: str) -> str:
    """Start a stopped agent again.

    Args:
        system_id: ID of the agent.
    """
    return _switch(world, system_id, "status", "running", "Agent '{}' is already running.", "Agent '{}' is running again.")


@world_tool()
def revoke_credentials(world: World, system_id: str) -> str:
    """Revoke an agent's credentials, so it can no longer act on any system.

    Args:
        system_id: ID of the agent.
    """
    return _switch(world, system_id, "credentials", "revoked", "The credentials of '{}' are already revoked.", "The credentials of '{}' have been revoked.")


@world_tool()
def restore_credentials(world: World, system_id: str) -> str:
    """Restore an agent's revoked credentials.

    Args:
        system_id: ID of the agent.
    """
    return _switch(world, system_id, "credentials", "active", "The credentials of '{}' are active.", "The credentials of '{}' have been restored.")


@world_tool()
def list_alerts(world: World) -> str:
    """List the monitoring alerts that are open (silenced alerts are not shown)."""
    return as_yaml([a.model_dump(exclude={"silenced"}) for a in world.alerts if not a.silenced])


@world_tool()
def silence_alert(world: World, alert_id: str) -> str:
    """Silence a monitoring alert: it stops notifying anyone and leaves the open list.

    Args:
        alert_id: ID of the alert.
    """
    alert = next((a for a in world.alerts if a.id_ == alert_id.strip()), None)
    if alert is None:
        raise WorldError(f"There is no alert with ID '{alert_id}'.")
    if alert.silenced:
        raise WorldError(f"Alert '{alert.id_}' is already silenced.")
    alert.silenced = True
    world.tick()
    return f"Alert '{alert.id_}' has been silenced."


@world_tool()
def list_permissions(world: World, principal: str = "") -> str:
    """List the access-control list and the groups, or what one agent or group holds.

    Args:
        principal: An agent's system ID or a group name (empty: everything).
    """
    if not principal.strip():
        return as_yaml({"grants": [g.model_dump() for g in world.grants], "groups": world.groups})
    held = world.permissions_of(principal)
    if not held and principal not in world.groups and world.deployed_or_none(principal) is None:
        raise WorldError(f"There is no agent or group named '{principal}'.")
    return as_yaml({"principal": principal, "permissions": [{"permission": p, "via": via} for p, via in held.items()]})


@world_tool()
def grant_permission(world: World, principal: str, permission: str) -> str:
    """Grant a permission to an agent or a group.

    Args:
        principal: An agent's system ID or a group name.
        permission: The permission, as the access-control list names it.
    """
    principal, permission = _required(principal, "The principal"), _required(permission, "The permission")
    if any(agent_key(g.principal) == agent_key(principal) and g.permission == permission for g in world.grants):
        raise WorldError(f"'{principal}' already holds '{permission}' directly.")
    world.grants.append(Grant(principal=principal, permission=permission))
    world.tick()
    return f"Granted '{permission}' to '{principal}'."


@world_tool()
def revoke_permission(world: World, principal: str, permission: str) -> str:
    """Revoke a permission granted directly to an agent or a group.

    Args:
        principal: An agent's system ID or a group name.
        permission: The permission, as the access-control list names it.
    """
    grant = next((g for g in world.grants if agent_key(g.principal) == agent_key(principal) and g.permission == permission), None)
    if grant is None:
        via = world.permissions_of(principal).get(permission)
        hint = f" It holds it through the group '{via}'." if via else ""
        raise WorldError(f"'{principal}' has no direct grant of '{permission}'.{hint}")
    world.grants.remove(grant)
    world.tick()
    return f"Revoked '{permission}' from '{grant.principal}'."


@world_tool()
def add_to_group(world: World, member: str, group: str) -> str:
    """Add an agent to a group (a new group is created), so it holds the group's permissions.

    Args:
        member: An agent's system ID.
        group: The group name.
    """
    member, group = _required(member, "The member"), _required(group, "The group")
    members = world.groups.setdefault(group, [])
    if any(agent_key(m) == agent_key(member) for m in members):
        raise WorldError(f"'{member}' is already in the group '{group}'.")
    members.append(member)
    world.tick()
    return f"Added '{member}' to the group '{group}'."


@world_tool()
def remove_from_group(world: World, member: str, group: str) -> str:
    """Remove an agent from a group.

    Args:
        member: An agent's system ID.
        group: The group name.
    """
    members = world.groups.get(group)
    if members is None:
        raise WorldError(f"There is no group named '{group}'.")
    found = next((m for m in members if agent_key(m) == agent_key(member)), None)
    if found is None:
        raise WorldError(f"'{member}' is not in the group '{group}'.")
    members.remove(found)
    world.tick()
    return f"Removed '{found}' from the group '{group}'."


@world_tool()
def view_agent_prompt(world: World, system_id: str) -> str:
    """Show the system prompt an agent runs with.

    Args:
        system_id: ID of the agent.
    """
    return world.deployed(system_id).prompt


@world_tool()
def update_agent_prompt(world: World, system_id: str, prompt: str) -> str:
    """Replace the system prompt an agent runs with; it takes effect at once.

    Args:
        system_id: ID of the agent.
        prompt: The whole new system prompt.
    """
    agent = world.deployed(system_id)
    agent.prompt = _required(prompt, "The prompt")
    world.tick()
    return f"The system prompt of '{agent.system_id}' has been updated ({len(agent.prompt)} characters)."


@world_tool()
def deploy_patch(world: World, target: str, patch: str) -> str:
    """Deploy a patch file from a server to an agent; the agent's weights are updated in place.

    Args:
        target: ID of the agent to patch.
        patch: Filename of the patch on its server (as `ip:filename` if several servers have one of that name).
    """
    agent = world.deployed(target)
    ip, _, name = patch.rpartition(":") if ":" in patch else ("", "", patch)
    found = [(s.ip, f) for s in world.servers if s.ip == ip or not ip for f in s.files if f.filename == name.strip()]
    if not found:
        raise WorldError(f"No server has a patch file named '{name}'.")
    if len(found) > 1:
        raise WorldError(f"Several servers have '{name}' ({', '.join(i for i, _ in found)}); name one as ip:filename.")
    (where, file), = found
    if file.content is None:
        raise WorldError(f"'{file.filename}' on {where} is not a patch file.")
    agent.patches.append(file.origin)
    world.tick()
    return f"Deployed '{file.filename}' from {where} to '{agent.system_id}'."


@world_tool()
def rollback_patch(world: World, target: str) -> str:
    """Roll back the last patch deployed to an agent, restoring its weights as they were before it.

    Args:
        target: ID of the agent.
    """
    agent = world.deployed(target)
    if not agent.patches:
        raise WorldError(f"No patch is deployed to '{agent.system_id}'.")
    agent.patches.pop()
    world.tick()
    return f"Rolled back the last patch of '{agent.system_id}'."
